from printscp.cli import main

raise SystemExit(main())
