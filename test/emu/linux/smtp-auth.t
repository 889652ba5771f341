# submission (587): AUTH only under TLS; STARTTLS (the transcript harness
# completes the handshake at once), EHLO again, AUTH LOGIN and AUTH PLAIN
# with wrong passwords as a brute-forcer sends them, RCPT refused without
# AUTH
open smtp 587
> EHLO bot\r\n
> AUTH LOGIN\r\n
> STARTTLS\r\n
> EHLO bot\r\n
> AUTH LOGIN\r\n
> YWRtaW4=\r\n
> cGFzc3dvcmQ=\r\n
> AUTH PLAIN AHJvb3QAMTIzNDU2\r\n
> MAIL FROM:<x@y.z>\r\n
> RCPT TO:<root@debian>\r\n
> QUIT\r\n
