# vsftpd's idle_session_timeout (300 s: its default, which Debian's file
# leaves commented out): "421 Timeout." and a close, before or after a
# login; each line starts it again
open ftp 21
+ 299000
> NOOP\r\n
+ 299000
+ 1000
close
