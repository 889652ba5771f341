# telnet on 23: BusyBox telnetd's negotiation (DO ECHO, DO NAWS, WILL ECHO,
# WILL SGA) in a write of its own; 2 ms later (login has started) the
# newline print_login_issue() sends, then login's prompt. A client that
# sends nothing leaves no event.
open telnet 23
+ 2
close
