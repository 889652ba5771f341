# http: garbage, a NUL in the request line, invalid UTF-8 in the URL, and
# HTTP/1337: the answers nginx gives (400 / 505), events still logged
open http 80
> \x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03
open http 80
> GET /a\x00b HTTP/1.1\r\n\r\n
open http 80
> GET /\xc3\x28\xff%ff?x=\xe2\x82 HTTP/1.1\r\nHost: x\r\nUser-Agent: \x01\x7f"\\\r\n\r\n
open http 80
> GET / HTTP/1337.1\r\n\r\n
