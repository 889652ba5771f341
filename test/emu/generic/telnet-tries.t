# the third failure ends the session after "Login incorrect"
open telnet 23
> a\r\n
> 1\r\n
+ 3000
> b\r\n
> 2\r\n
+ 3000
> c\r\n
> 3\r\n
+ 3000
