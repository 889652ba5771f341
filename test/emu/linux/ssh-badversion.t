# SSH-1.5: sshd 9.2 answers "Protocol major versions differ." and closes
# (the CR LF a moment later: its own write)
open ssh 22
> SSH-1.5-1.2.27\r\n
+ 1
