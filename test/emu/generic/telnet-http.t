# an HTTP request to port 23 never forms a login: the request line is taken
# as a user name, the rest is flushed type-ahead; logged at close (the
# first 256 bytes, lure.truncated)
open telnet 23
> POST /cgi-bin/login.cgi HTTP/1.1\r\nHost: 198.51.100.1:23\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\nAccept: */*\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 39\r\n\r\nusername=admin&password=admin&submit=1
close
