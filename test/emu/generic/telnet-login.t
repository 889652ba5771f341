# line-mode client: user name echoed (CR LF), password not echoed; login
# prints a newline, waits 3 s, "Login incorrect", prompts again
open telnet 23
> root\r\n
> 12345\r\n
+ 2999
+ 1
> admin\r\n
> admin\r\n
+ 3000
close
