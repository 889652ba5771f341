# http: a kept-alive connection waits 75 s for its next request (nginx's
# keepalive_timeout default, http.keepalive_hold, timed in steps of 30 s),
# then closes; a request begun within them restarts the wait after its answer
open http 80
> HEAD / HTTP/1.1\r\nHost: x\r\n\r\n
+ 30000
+ 30000
+ 14000
> HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n
+ 30000
+ 30000
+ 14000
+ 1000
