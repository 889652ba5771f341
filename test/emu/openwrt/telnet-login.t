# OpenWrt's BusyBox telnetd: a wrong login ("Login incorrect" after 3 s),
# then root with a password telnet.accept lists: the ash greeting, the
# banner (files/fs/etc/banner), the prompt; Mirai's first commands; exit
open telnet 23
> admin\r\n
> admin\r\n
+ 3000
> root\r\n
> admin\r\n
> enable\r\n
> system\r\nshell\r\nsh\r\n
> /bin/busybox MIRAI\r\n
> exit\r\n
