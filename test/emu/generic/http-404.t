# http: unknown paths, and the error page padding nginx adds for Chrome and
# MSIE user agents (not for Firefox's "Gecko/", nor when "Opera" is there)
open http 8080
> GET /admin/config.php HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0\r\n\r\n
> HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n
> GET /.env HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n\r\n
> GET /index.html HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1) Opera 9.0\r\nConnection: close\r\n\r\n
