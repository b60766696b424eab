import json,sys
import numpy as np
d=json.load(open(sys.argv[1]))
m=np.array(d['mean_over_runs']); e=np.array(d['err']); a=np.array(d['all_samples'])
print(sys.argv[1],'n',d['n'])
for r in range(m.shape[0]): print(' Nr',r+1,' '.join(f'{m[r,c]:.4f}({e[r,c]*1e4:.0f})' for c in range(7)))
