from tollgate_sdk.cli import main

main()
