# uhttpd errors: 404 names the URL, chunked on HTTP/1.1; LuCI's login page
# is a 403 with x-luci-login-required; HTTP/1.0 404: no length, close
open http 80
> GET /shell?cd+/tmp HTTP/1.1\r\nHost: x\r\n\r\n
> GET /cgi-bin/luci/ HTTP/1.1\r\nHost: x\r\n\r\n
> GET /HNAP1/ HTTP/1.0\r\n\r\n
# a method uhttpd does not serve files with: 405, no type, an empty body
# (chunked on HTTP/1.1: the last chunk alone); POST is served like GET
open http 80
> DELETE / HTTP/1.1\r\nHost: x\r\n\r\n
> POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b
