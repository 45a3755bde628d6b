"""web3.py's own provider conformance classes (``web3._utils.module_testing``) run against a real
`dataseal node` process and a real hardhat node, with the chain web3.py builds for geth."""
