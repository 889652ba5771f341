# IAC IAC is a 0xff data byte: echoed doubled (telnetd escapes pty output),
# logged escaped; IAC followed by a non-command swallows one more byte
open telnet 23
> a\xff\xffb\xe9\r\n
> \xff\x41Xp\xff\xffw\r\n
+ 3000
close
