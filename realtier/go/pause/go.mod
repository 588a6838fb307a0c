module brrtrouter.local/pause

go 1.25
