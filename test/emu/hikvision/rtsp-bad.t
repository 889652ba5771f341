# rtsp on 554: a malformed request line closes the connection, no answer;
# so does a header line without a colon
open rtsp 554
> \x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n
open rtsp 554
> OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n
open rtsp 554
> OPTIONS  *  RTSP/1.0 extra\r\n\r\n
