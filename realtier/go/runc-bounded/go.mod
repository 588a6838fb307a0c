module brrtrouter.local/runc-bounded

go 1.25
