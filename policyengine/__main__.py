from policyengine.cli.main import main

raise SystemExit(main())
