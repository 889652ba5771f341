# http: HTTP/1.0 keep-alive when asked, HTTP/1.1 "Connection: close", and
# empty lines between requests (skipped, as nginx does)
open http 80
> HEAD / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n
> \r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive, close\r\n\r\n
open http 80
> HEAD / HTTP/1.0\r\nConnection: foo\r\n\r\n
