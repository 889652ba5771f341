# character-mode client (netkit telnet): one byte per packet, CR NUL line
# ends; a NUL alone in a read is dropped by telnetd
open telnet 23
> r
> o
> o
> t
> \r
> \0
> p
> w
> \r
> \0
+ 3000
close
