# line ends: CR NUL, bare LF, bare CR; a CR and its LF in separate reads
# are two line ends (telnetd only drops the LF in the same read), so the
# password is empty
open telnet 23
> u1\r\0
> p1\n
+ 3000
> u2\r
> \n
+ 3000
close
