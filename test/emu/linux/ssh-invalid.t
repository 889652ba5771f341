# not an identification line: "Invalid SSH identification string.", then
# close. sshd writes the CR LF separately and exits with input unread, so a
# client that sent more than the line (an HTTP request; the rest of a line
# with a bare CR) gets no CR LF, only a reset; alone, the line gets both,
# the CR LF a moment later in a segment of its own
open ssh 22
> GET / HTTP/1.0\r\n\r\n
open ssh 22
> SSH-2.0-x\rfoo\r\n
open ssh 22
> SSH-2.0\r\n
+ 1
