# data commands after a login: PORT/EPRT checked as vsftpd checks them
# (the client's own address, a port from 1024, 6 numbers to 255, EPRT's
# fields), the transfer that follows fails as when the client's port is
# closed (lure never connects); PASV/EPSV name a port, LIST then waits
# vsftpd's accept_timeout (60 s) and fails; RETR of a file not modelled
open ftp 21
> USER admin\r\nPASS admin\r\n
> PORT 192,0,2,1,39,16\r\n
> LIST\r\n
> LIST\r\n
> PORT 192,0,2,1,39,16\r\n
> RETR nonexist\r\n
> PORT 192,0,2,1,3,255\r\n
> PORT 192,0,2,1,4,0\r\n
> PORT 192,0,2,1,256,0\r\n
> PORT 192,0,2,1,39\r\n
> PORT 10,0,0,1,39,16\r\n
> PORT  192,0,2,1,39,16\r\n
> STOR x\r\n
> NLST\r\n
> EPRT |1|192.0.2.1|10000|\r\n
> EPRT |1|192.0.2.2|10000|\r\n
> EPRT |1|192.0.2.1|1023|\r\n
> EPRT ;1;192.0.2.1;2000;\r\n
> EPRT |2|::1|2000|\r\n
> EPRT x\r\n
> EPSV 2\r\n
> PASV\r\n
> LIST\r\n
> NOOP\r\n
+ 59000
+ 1000
> EPSV\r\n
> RETR x\r\n
close
