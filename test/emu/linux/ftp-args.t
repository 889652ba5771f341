# arguments as vsftpd 3.0.3 reads them (captured on 127.0.0.1): the type
# is ASCII until TYPE says otherwise, verbs and TYPE/MODE/STRU/OPTS/EPSV
# words in any case, REST's offset whole digits or 0, EPSV's protocol as
# atoi() reads it (2 only over IPv6), CWD with a trailing or doubled slash
open ftp 21
> USER admin\r\npass admin\r\n
> STAT\r\n
> type i\r\n
> TYPE l 8\r\n
> mode s\r\n
> stru f\r\n
> OPTS utf8 On\r\n
> REST -5\r\n
> REST 12abc\r\n
> REST 99999999999\r\n
> EPSV 3\r\n
> EPSV x\r\n
> EPSV 1 \r\n
> epsv all\r\n
> CWD /tmp/\r\n
> PWD\r\n
> CWD //\r\n
> PWD\r\n
> cwd ../../var/./log\r\n
> pwd\r\n
close
