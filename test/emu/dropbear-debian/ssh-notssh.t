# a line that is not "SSH-...": dropbear takes one line only and closes
# without a word ("Exited normally")
open ssh 22
> GET / HTTP/1.0\r\n\r\n
close
