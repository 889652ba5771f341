# bytes typed during login's 3 s failure delay: echoed by the tty (login
# restored the echo), then flushed by login before the next prompt; the
# input keeps flowing meanwhile (checked live in test/it/test_telnet_busybox.py)
open telnet 23
> admin\r\n
> secret\r\nroot\r\n
+ 500
> root\r\n
+ 500
> half
+ 2000
> guest\r\n
close
