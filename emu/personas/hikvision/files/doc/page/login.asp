<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta http-equiv="X-UA-Compatible" content="IE=edge" />
<meta http-equiv="Pragma" content="no-cache" />
<meta http-equiv="Cache-Control" content="no-cache, must-revalidate" />
<meta http-equiv="Expires" content="0" />
<title></title>
<link rel="stylesheet" type="text/css" href="../css/login.css" />
<script type="text/javascript" src="../script/login.js"></script>
</head>
<body>
<div class="login">
<div class="logo"></div>
<form id="login" onsubmit="return doLogin();">
<div class="item"><label for="username">User Name</label><input id="username" type="text" maxlength="32" /></div>
<div class="item"><label for="password">Password</label><input id="password" type="password" maxlength="16" /></div>
<div class="item"><button type="submit" class="btn">Login</button></div>
<div id="tip" class="tip"></div>
</form>
</div>
</body>
</html>
