# After a telnet login: the environment BusyBox login and OpenWrt's
# /etc/profile leave to ash (no SSH variables; PS1 and ENV exported), in
# ash's order; export's sorted list; root's shadow line, its hash
# md5crypt of the bait password with this (all-zero seed) device's salt
open telnet 23
> root\r\n
> admin\r\n
> env\r\n
> cd /tmp; export X=1; export\r\n
> head -n 1 /etc/shadow; wc -c /etc/shadow\r\n
> exit\r\n
