# the pty's line editing and echo, as captured from BusyBox on Linux: DEL
# erases (BS SP BS, twice for a ^X), ^H is a plain byte echoed ^H, tabs echo
# as spaces to the next 8-column stop and erase back to it, ^U kills the
# line, ^W a word, ^V quotes the next byte, ^R reprints, ^S/^Q vanish, ^D
# pushes the line so DEL cannot reach what came before it
open telnet 23
> ab\x7fc\x08d\x01e\tf\r\n
> pw\r\n
+ 3000
> a\tb\x7f\x7f\x7fc\x13d\x11e\r\n
> pw\r\n
+ 3000
> ab\x15cd\x17ef gh\x17\r\n
close
open telnet 23
> ab\x16\x03c\x12d\r\n
> x\x7fy\x15pass\x7f\x7fw\x12\r\n
+ 3000
> a\tbc\td\x7f\x7f\x7f\x7f\x7f\x7f
> ab\x04\x7f\x7f\x7fcd\r\n
close
