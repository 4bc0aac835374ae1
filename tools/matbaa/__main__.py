from matbaa.cli import main

raise SystemExit(main())
