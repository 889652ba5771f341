# what scanners send to 25: garbage, commands before HELO, unknown verbs
# (the error counter), an HTTP request (smtpd_forbidden_commands), then the
# idle time-out on a fresh connection
open smtp 25
> \x16\x03\x01\x00\x05hello\r\n
> MAIL FROM:<a@b>\r\n
> XYZZY\r\n
> HELO\r\n
> HELO x\r\n
> RCPT TO:<root@debian>\r\n
> DATA\r\n
> GET / HTTP/1.0\r\n
close
open smtp 25
+ 300000
close
