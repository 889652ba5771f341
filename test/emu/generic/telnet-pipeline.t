# a client that sends user and password at once: login flushes type-ahead
# before the password prompt, so the password line is echoed then lost;
# at close the unlogged bytes become one request event
open telnet 23
> root\r\nroot\r\n
+ 5000
close
