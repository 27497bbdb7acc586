import Engine
let a = Tensor(shape: [2, 2], data: [1, 2, 3, 4], requiresGrad: true)
let y = (a.matmul(a) * 2).sum()
y.backward()
print(y, a.grad!, BLAS.kernel)
