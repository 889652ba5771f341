# banner on 21: greeting sent at once, client bytes captured per chunk
open banner 21
> USER anonymous\r\n
> \x00\xff\xfe binary \xc3\xa9 ok
close
