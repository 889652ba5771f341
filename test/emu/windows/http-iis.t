# IIS 10: the default page (GET, HEAD), 404, 405, OPTIONS, HTTP.sys's 400
open http 80
> GET / HTTP/1.1\r\nHost: 10.0.0.5\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n
> HEAD /iisstart.htm HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n
> GET /robots.txt HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n
> PUT / HTTP/1.1\r\nHost: 10.0.0.5\r\nContent-Length: 0\r\n\r\n
> OPTIONS / HTTP/1.1\r\nHost: 10.0.0.5\r\n\r\n
> GET / HTTP/1.1\r\n\r\n
close
