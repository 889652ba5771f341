# failed logins: about 3 s (vsftpd's delay and PAM's) then "530 Login
# incorrect.", input held meanwhile; root refused with its right password
# (/etc/ftpusers); the third failure closes
open ftp 21
> FEAT\r\n
> SYST\r\n
> PASS x\r\n
> USER root\r\n
> PASS 123456\r\n
> SYST\r\n
+ 2900
+ 200
> USER anonymous\r\n
> PASS a@b\r\n
+ 3000
> USER admin\r\n
> PASS wrong\r\n
+ 3000
> NOOP\r\n
close
