# uhttpd: GET / is LuCI's redirect page (no Server header; ETag
# inode-size-mtime; Keep-Alive: timeout=20), HTTP/1.0 closes
open http 80
> GET / HTTP/1.1\r\nHost: 192.168.1.1\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n
> GET / HTTP/1.0\r\n\r\n
