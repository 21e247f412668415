// nabla — numerical optimization: the umbrella header.
// The optimizers arrive with the optim issue; this component is empty for now.
#pragma once
