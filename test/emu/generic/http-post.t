# http: POST with a Content-Length body: 405 (a static page), body logged,
# the connection stays open. Then a POST whose body comes in a later send:
# the 404 goes out at once (as nginx answers), the event waits for the body
# (http.body_wait, the core reads nothing meanwhile) and logs it.
open http 80
> POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 27\r\n\r\nuser=admin&pass=admin%21%21
> POST /cgi-bin/login.cgi HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n
> {"cmd":"reboot"}\n
+ 500
> GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n
