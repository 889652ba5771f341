# vsftpd 3.0.3 on Debian 12 after admin's login (a local user, stock
# config: write_enable unset), as captured from it on 127.0.0.1: PWD is
# the home, CWD/CDUP, TYPE, STAT, HELP, SITE, the write commands denied,
# USER/PASS again, RETR/LIST with no data connection, then QUIT
open ftp 21
> USER admin\r\n
> PASS admin\r\n
> PWD\r\n
> SYST\r\n
> TYPE I\r\n
> TYPE A N\r\n
> TYPE L 8\r\n
> TYPE X\r\n
> CWD /tmp\r\n
> XPWD\r\n
> CWD /nonexist\r\n
> CWD ..\r\n
> PWD\r\n
> CWD\r\n
> CWD ~\r\n
> PWD\r\n
> CDUP\r\n
> PWD\r\n
> STAT\r\n
> HELP\r\n
> FEAT\r\n
> OPTS UTF8 ON\r\n
> MODE S\r\n
> MODE B\r\n
> STRU F\r\n
> STRU R\r\n
> ALLO 10\r\n
> REST 10\r\n
> REST\r\n
> SITE HELP\r\n
> SITE UMASK\r\n
> SITE UMASK 022\r\n
> SITE UMASK\r\n
> SITE CHMOD 777 x\r\n
> SITE\r\n
> MKD x\r\n
> DELE x\r\n
> RNFR x\r\n
> STOR x\r\n
> STOU\r\n
> RETR .bashrc\r\n
> LIST\r\n
> NLST\r\n
> ABOR\r\n
> ACCT x\r\n
> SMNT x\r\n
> REIN\r\n
> MLSD\r\n
> XYZZY\r\n
> USER bob\r\n
> USER admin\r\n
> PASS x\r\n
> EPSV ALL\r\n
> STAT x\r\n
> NOOP\r\n
> QUIT\r\n
close
