# Postfix 3.7 on 25 as a bot's spam run meets it: EHLO, a local recipient
# and a relay attempt refused, the message received (its Subject and URL
# in the request event, its SHA-256 and queue ID), RSET, QUIT
open smtp 25
> EHLO spam.example\r\n
> MAIL FROM:<a@spam.example>\r\n
> RCPT TO:<victim@example.net>\r\n
> RCPT TO:<root@debian>\r\n
> DATA\r\n
> Subject: hello\r\n\r\nclick http://198.51.100.7/x.exe now\r\n..dot\r\n.\r\n
> RSET\r\n
> VRFY nobody\r\n
> NOOP\r\n
> QUIT\r\n
