# http: Basic credentials give a login event besides the request event;
# a malformed Basic value is logged raw, with no login event
open http 80
> GET /cgi-bin/admin HTTP/1.1\r\nHost: x\r\nAuthorization: Basic YWRtaW46cGFzc3dvcmQ=\r\n\r\n
> GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic cm9vdDrDqcO/\r\n\r\n
> GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic !!!notbase64\r\n\r\n
close
