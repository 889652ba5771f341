# telnetd answers no option command; AYT gets telnetd's IAC NOP, which its
# own IAC doubling turns into IAC IAC NOP; the client's options and window
# size go with the first login event; an IAC alone at the end of a read
# waits for the next (IAC SB NAWS cut short: telnet-sb.t)
open telnet 23
> \xff\xfb\x18\xff\xfb\x1f\xff\xfd\x03\xff\xfd\x01\xff\xfc\x01
> \xff\xfa\x1f\x00\x50\x00\x18\xff\xf0
> \xff\xf6
> \xff\xf1\xff\xf9\xff
> \xfb\x18ro\xff
> \xfa\x1f\x00\x84\x00\x2b\xff\xf0ot\r\n
> pw\r\n
+ 3000
close
