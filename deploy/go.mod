module github.com/callback-router/callback-router/deploy

go 1.26.8
