package wire

// PeekSocket is peekSocket, for the tests of package wire_test.
var PeekSocket = peekSocket
