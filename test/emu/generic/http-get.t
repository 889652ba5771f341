# http: GET / as curl sends it (keep-alive), HEAD on the same connection,
# the page by its own name with a query, then HTTP/1.0 (closes)
open http 80
> GET / HTTP/1.1\r\nHost: 198.51.100.1\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n
> HEAD / HTTP/1.1\r\nHost: 198.51.100.1:80\r\nUser-Agent: curl/7.88.1\r\n\r\n
> GET /index.nginx-debian.html?a=1&b=%41 HTTP/1.1\r\nHost: www.example.com\r\nReferer: http://www.example.com/\r\n\r\n
> GET / HTTP/1.0\r\n\r\n
