# login gives up 60 s after it started: on an idle connection (emu_timer
# fires while a line is being read), and when the deadline falls inside a
# failure delay
open telnet 23
+ 60000
> root\r\n
open telnet 23
> root\r\n
+ 58500
> pw\r\n
+ 1499
+ 1
