# SSH-1.5: dropbear sends its banner and KEXINIT at once, then on a version
# other than 2.x or 1.99 exits ("Incompatible remote version") silently
open ssh 22
> SSH-1.5-1.2.27\r\n
close
