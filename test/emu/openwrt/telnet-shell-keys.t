# in the shell: type-ahead with the password is read by the shell, ^C drops
# the line and prompts again, 0xff is doubled in echo, ^D on an empty line
# ends the session (telnetd closes)
open telnet 23
> root\r\n
> root\r\necho one\r\n
> echo tw\x03
> echo \xff\xff\r\n
> \x04
