# hikvision http: the index as nmap's GetRequest gets it (HTTP/1.0 in,
# HTTP/1.0 out, Connection: close, BOM + "<!doctype html>"), a browser's
# keep-alive visit of the login page and its assets, a revalidation, and
# the 404 page (nmap's 40x line: Cache-Control then "<!DOCTYPE html>")
open http 80
> GET / HTTP/1.0\r\n\r\n
close
open http 80
> GET / HTTP/1.1\r\nHost: 192.0.2.10\r\nUser-Agent: Mozilla/5.0\r\n\r\n
> GET /doc/page/login.asp?_1767323045000 HTTP/1.1\r\nHost: 192.0.2.10\r\n\r\n
> HEAD /doc/css/login.css HTTP/1.1\r\nHost: 192.0.2.10\r\n\r\n
> GET /doc/script/login.js HTTP/1.1\r\nHost: 192.0.2.10\r\nIf-None-Match: "206-5d768f65"\r\n\r\n
> GET /nothing-here HTTP/1.1\r\nHost: 192.0.2.10\r\nConnection: close\r\n\r\n
close
open http 80
> GET /nmap HTTP/1.0\r\n\r\n
close
