S 你们 的 老师 睡 得 很 好 。

S 他们 周末 高兴 的 听 音乐 。
A 3 4|||S|||地|||REQUIRED|||-NONE-|||0

S 她 的 哥哥 很 开心 。

S 你们 的 妈妈 很 健康 。

S 妈妈 今天 很 开心 。

S 小王 的 老师 睡 很 早 。
A 4 4|||M|||得|||REQUIRED|||-NONE-|||0

S 我 的 朋友 今天 高兴 地 买 东西 。

S 我 得 朋友 安静 地 吃 饭 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 小王 地 老师 以后 再 散部 吧 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 5 6|||S|||散步|||REQUIRED|||-NONE-|||0

S 我 的 老师 在 教室 休息 。

S 她 的 老师 正在 做 作业 。

S 你们 得 朋友 正在 买 东西 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 我 的 朋友 是 很 累 。
A 3 4|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 他们 得 妹妹 以后 再 写 作文 吧 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 老师 学 的 很 好 。
A 2 3|||S|||得|||REQUIRED|||-NONE-|||0

S 同学们 学校 听 音乐 。
A 1 1|||M|||在|||REQUIRED|||-NONE-|||0

S 妈妈 昨天 在 家里 学习 汉语 。

S 他 地 同学 做 很 认真 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 4 4|||M|||得|||REQUIRED|||-NONE-|||0

S 学生 看 书 的 时候 是 很 渴 。
A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 他们 可以 教室 工作 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 爸爸 周末 在 打 篮球 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 她 已经 锻练 身体 了 。
A 2 3|||S|||锻炼|||REQUIRED|||-NONE-|||0

S 爸爸 是 很 饿 。
A 1 2|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 他们 地 老师 昨天 是 很 认真 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 4 5|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 我 的 哥哥 听 音乐 的 时候 很 开心 。

S 他们 晚上 在 家里 锻炼 身体 。

S 我们 的 朋友 正在 看 书 了 。
A 6 7|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 小王 的 妹妹 今天 在 图书馆 听 音乐 。

S 同学们 以经 听 音乐 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0
A 4 4|||M|||了|||REQUIRED|||-NONE-|||0

S 我们 学 得 很 好 。

S 妹妹 已后 再 看 电影 吧 。
A 1 2|||S|||以后|||REQUIRED|||-NONE-|||0

S 小王 的 哥哥 已经 打 篮球 了 。

S 小王 已经 工作 了 。

S 妹妹 明天 食堂 工作 。
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 他们 明天 在 商店 休息 。

S 你们 晚上 在 看 书 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 他们 的 妹妹 在 教室 跑步 。

S 我们 开心 地 听 音乐 。

S 同学们 下午 在 写 做文 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0
A 4 5|||S|||作文|||REQUIRED|||-NONE-|||0

S 我们 说 地 很 快 。
A 2 3|||S|||得|||REQUIRED|||-NONE-|||0

S 他们 昨天 在 公园 锻练 身体 。
A 4 5|||S|||锻炼|||REQUIRED|||-NONE-|||0

S 妈妈 公园 渴 水 。
A 1 1|||M|||在|||REQUIRED|||-NONE-|||0
A 2 3|||S|||喝|||REQUIRED|||-NONE-|||0

S 老师 昨天 认真 地 做 作业 。

S 我们 以经 看 书 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 小王 学 得 狠 快 。
A 3 4|||S|||很|||REQUIRED|||-NONE-|||0

S 我们 的 同学 每天 在 学校 附近 打 篮球 。

S 你们 的 妹妹 晚上 再 跑部 吧 。
A 5 6|||S|||跑步|||REQUIRED|||-NONE-|||0

S 同学们 正再 学习 汉语 。
A 1 2|||S|||正在|||REQUIRED|||-NONE-|||0

S 小王 在 商店 锻炼 身体 。

S 我们 地 妹妹 认真 地 看 书 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 哥哥 开心 地 锻炼 身体 。

S 你们 做 得 很 好 。

S 我 以经 唱 歌 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 老师 已经 休息 了 。

S 妈妈 学习 汉语 的 时候 是 很 忙 。
A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 妈妈 可以 图书馆 买 东西 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 我 正在 散步 了 。
A 3 4|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 同学们 早上 很 累 。

S 我们 可以 在 教室 吃 饭 吗 ？

S 她 的 同学 再 食堂 休息 。
A 3 4|||S|||在|||REQUIRED|||-NONE-|||0

S 他们 在 图书馆 唱 歌 。

S 他 写 得 很 快 。

S 他 可以 公园 讨论 问题 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 学生 周末 在 看 书 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 他们 已经 讨论 问题 了 。

S 妈妈 以经 跑步 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 哥哥 正在 休息 了 。
A 3 4|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 小王 的 朋友 在 食堂 散步 。

S 你们 的 朋友 已经 看 书 。
A 6 6|||M|||了|||REQUIRED|||-NONE-|||0

S 她 晚上 再 做 作业 吧 。

S 妹妹 来 得 很 晚 。

S 我 慢慢 得 听 音乐 。
A 2 3|||S|||地|||REQUIRED|||-NONE-|||0

S 小王 的 哥哥 晚上 再 喝 水 吧 。

S 小王 的 妹妹 安静 地 喝 水 。

S 我 的 朋友 可以 在 家里 唱 歌 吗 ？

S 你 明天 在 家里 写 作文 。

S 他 唱 得 很 好听 。

S 你 昨天 努力 地 学习 汉语 。

S 我们 明天 在 散步 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 哥哥 以经 做 饭 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 他们 周末 再 家里 做 饭 。
A 2 3|||S|||在|||REQUIRED|||-NONE-|||0

S 他们 来 很 晚 。
A 2 2|||M|||得|||REQUIRED|||-NONE-|||0

S 你们 已经 买 东西 了 。

S 我 地 朋友 写 得 狠 认真 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 5 6|||S|||很|||REQUIRED|||-NONE-|||0

S 学生 晚上 是 很 开心 。
A 2 3|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 妹妹 以后 在 唱 歌 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 他们 的 哥哥 已经 吃 饭 。
A 6 6|||M|||了|||REQUIRED|||-NONE-|||0

S 他们 正在 休息 。

S 他 昨天 是 很 高兴 。
A 2 3|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 小王 说 很 快 。
A 2 2|||M|||得|||REQUIRED|||-NONE-|||0

S 哥哥 学 得 很 认真 。

S 老师 可以 食堂 复习 课文 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 妈妈 安静 的 休息 。
A 2 3|||S|||地|||REQUIRED|||-NONE-|||0

S 他 在 商店 工做 。
A 3 4|||S|||工作|||REQUIRED|||-NONE-|||0

S 学生 正在 看 书 。

S 你们 每天 很 忙 。

S 我们 可以 教室 听 音乐 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 小王 慢慢 地 渴 水 。
A 3 4|||S|||喝|||REQUIRED|||-NONE-|||0

S 你们 以经 复习 课文 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 学生 狠 认真 。
A 1 2|||S|||很|||REQUIRED|||-NONE-|||0

S 妹妹 每天 学校 附近 复习 课文 。
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 他 的 哥哥 正再 写 作文 。
A 3 4|||S|||正在|||REQUIRED|||-NONE-|||0

S 他 的 妈妈 已经 休息 了 。

S 他们 地 哥哥 高兴 得 喝 水 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 4 5|||S|||地|||REQUIRED|||-NONE-|||0

S 妹妹 开心 地 跑部 。
A 3 4|||S|||跑步|||REQUIRED|||-NONE-|||0

S 同学们 已经 看 书 。
A 4 4|||M|||了|||REQUIRED|||-NONE-|||0

S 小王 下午 图书馆 听 音乐 。
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 我们 晚上 在 买 东西 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 小王 正再 讨论 问提 。
A 1 2|||S|||正在|||REQUIRED|||-NONE-|||0
A 3 4|||S|||问题|||REQUIRED|||-NONE-|||0

S 妹妹 唱 得 狠 好 。
A 3 4|||S|||很|||REQUIRED|||-NONE-|||0

S 他 安静 地 唱 歌 。

S 她 来 的 很 晚 。
A 2 3|||S|||得|||REQUIRED|||-NONE-|||0

S 你们 地 妹妹 认真 得 看 电影 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 4 5|||S|||地|||REQUIRED|||-NONE-|||0

S 他 得 朋友 在 学校 吃 饭 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 你 的 朋友 在 家里 作 饭 。
A 5 6|||S|||做|||REQUIRED|||-NONE-|||0

S 你们 早上 在 食堂 吃 饭 。

S 小王 的 妈妈 早上 是 很 开心 。
A 4 5|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 他们 得 老师 学 得 狠 好 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 5 6|||S|||很|||REQUIRED|||-NONE-|||0

S 哥哥 晚上 安静 地 听 音乐 。

S 哥哥 可以 家里 跑部 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0
A 3 4|||S|||跑步|||REQUIRED|||-NONE-|||0

S 我们 每天 再 学校 复习 课文 。
A 2 3|||S|||在|||REQUIRED|||-NONE-|||0

S 同学们 明天 认真 的 复习 课文 。
A 3 4|||S|||地|||REQUIRED|||-NONE-|||0

S 他 的 妈妈 已经 吃 饭 了 。

S 他们 在 图书馆 渴 水 。
A 3 4|||S|||喝|||REQUIRED|||-NONE-|||0

S 我们 的 老师 今天 在 学校 附近 锻练 身体 。
A 7 8|||S|||锻炼|||REQUIRED|||-NONE-|||0

S 我们 来 很 晚 。
A 2 2|||M|||得|||REQUIRED|||-NONE-|||0

S 小王 正在 打 蓝球 。
A 3 4|||S|||篮球|||REQUIRED|||-NONE-|||0

S 小王 再 图书馆 跑步 。
A 1 2|||S|||在|||REQUIRED|||-NONE-|||0

S 老师 明天 再 学校 散步 。
A 2 3|||S|||在|||REQUIRED|||-NONE-|||0

S 他们 再 教室 看 书 。
A 1 2|||S|||在|||REQUIRED|||-NONE-|||0

S 他 明天 在 学校 附近 看 书 。

S 我 学校 工作 。
A 1 1|||M|||在|||REQUIRED|||-NONE-|||0

S 老师 以经 跑步 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 学生 以后 在 买 东西 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 他 明天 在 食堂 跑步 。

S 我 做 地 很 认真 。
A 2 3|||S|||得|||REQUIRED|||-NONE-|||0

S 她 可已 在 学校 学习 汉语 吗 ？
A 1 2|||S|||可以|||REQUIRED|||-NONE-|||0

S 你 地 妈妈 下午 再 锻炼 身体 吧 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 你们 的 老师 下午 认真 地 写 作文 。

S 小王 来 得 很 晚 。

S 老师 可以 学校 锻练 身体 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0
A 3 4|||S|||锻炼|||REQUIRED|||-NONE-|||0

S 同学们 正在 作 饭 。
A 2 3|||S|||做|||REQUIRED|||-NONE-|||0

S 同学们 以经 学习 汉语 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 老师 慢慢 地 锻练 身体 。
A 3 4|||S|||锻炼|||REQUIRED|||-NONE-|||0

S 他 跑 地 很 慢 。
A 2 3|||S|||得|||REQUIRED|||-NONE-|||0

S 学生 可以 学校 讨论 问题 吗 ？
A 2 2|||M|||在|||REQUIRED|||-NONE-|||0

S 你们 得 妹妹 可以 在 公园 喝 水 吗 ？
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 你们 已经 做 作业 。
A 4 4|||M|||了|||REQUIRED|||-NONE-|||0

S 你们 得 哥哥 可已 在 商店 喝 水 吗 ？
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 3 4|||S|||可以|||REQUIRED|||-NONE-|||0

S 他们 的 同学 明天 再 跑步 吧 。

S 学生 很 饿 。

S 你们 的 妈妈 周末 在 公园 唱 歌 。

S 我们 下午 是 很 忙 。
A 2 3|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 爸爸 努力 的 散步 。
A 2 3|||S|||地|||REQUIRED|||-NONE-|||0

S 我 昨天 狠 忙 。
A 2 3|||S|||很|||REQUIRED|||-NONE-|||0

S 我们 说 得 狠 流利 。
A 3 4|||S|||很|||REQUIRED|||-NONE-|||0

S 我 的 妹妹 明天 在 复习 课文 吧 。
A 4 5|||S|||再|||REQUIRED|||-NONE-|||0

S 妹妹 每天 很 饿 。

S 妈妈 正再 买 东西 。
A 1 2|||S|||正在|||REQUIRED|||-NONE-|||0

S 我 高兴 地 复习 课文 。

S 我们 在 学校 工作 。

S 妈妈 安静 地 唱 歌 。

S 他们 跑 得 很 快 。

S 她 的 朋友 正在 工作 。

S 我们 周末 在 学校 附进 唱 歌 。
A 4 5|||S|||附近|||REQUIRED|||-NONE-|||0

S 学生 以经 散步 了 。
A 1 2|||S|||已经|||REQUIRED|||-NONE-|||0

S 小王 的 老师 很 认真 。

S 你们 来 得 很 早 。

S 老师 周末 在 商店 休息 。

S 他们 晚上 在 学校 锻练 身体 。
A 4 5|||S|||锻炼|||REQUIRED|||-NONE-|||0

S 你 的 老师 以经 买 东西 了 。
A 3 4|||S|||已经|||REQUIRED|||-NONE-|||0

S 他 已经 学习 汉语 了 。

S 我们 再 家里 学习 汉语 。
A 1 2|||S|||在|||REQUIRED|||-NONE-|||0

S 他 昨天 在 家里 做 作业 。

S 他们 的 同学 很 高兴 。

S 哥哥 晚上 开心 得 写 做文 。
A 3 4|||S|||地|||REQUIRED|||-NONE-|||0
A 5 6|||S|||作文|||REQUIRED|||-NONE-|||0

S 你 的 妹妹 下午 食堂 学习 汉语 。
A 4 4|||M|||在|||REQUIRED|||-NONE-|||0

S 我 睡 地 很 好 。
A 2 3|||S|||得|||REQUIRED|||-NONE-|||0

S 他们 的 妹妹 学校 附近 做 饭 。
A 3 3|||M|||在|||REQUIRED|||-NONE-|||0

S 小王 周末 再 教室 听 音乐 。
A 2 3|||S|||在|||REQUIRED|||-NONE-|||0

S 同学们 看 电影 的 时候 很 饿 。

S 他 可以 在 学校 附近 写 作文 吗 ？

S 她 打 篮球 的 时候 是 很 忙 。
A 5 6|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 妹妹 正在 作 饭 。
A 2 3|||S|||做|||REQUIRED|||-NONE-|||0

S 她 下午 在 跑步 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 我们 已经 跑部 了 。
A 2 3|||S|||跑步|||REQUIRED|||-NONE-|||0

S 老师 今天 在 教室 散步 。

S 她 写 得 狠 认真 。
A 3 4|||S|||很|||REQUIRED|||-NONE-|||0

S 你 地 老师 正在 学习 汉语 了 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0
A 6 7|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 她 正在 散步 。

S 我 地 哥哥 休息 的 时候 很 饿 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 我 的 妈妈 下午 在 休息 吧 。
A 4 5|||S|||再|||REQUIRED|||-NONE-|||0

S 我们 周末 在 讨论 问题 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 你们 地 妈妈 周末 慢慢 地 做 作业 。
A 1 2|||S|||的|||REQUIRED|||-NONE-|||0

S 爸爸 唱 得 狠 好 。
A 3 4|||S|||很|||REQUIRED|||-NONE-|||0

S 爸爸 明天 在 买 东西 吧 。
A 2 3|||S|||再|||REQUIRED|||-NONE-|||0

S 老师 慢慢 地 看 书 。

S 你 是 很 开心 。
A 1 2|||R|||-NONE-|||REQUIRED|||-NONE-|||0

S 你们 的 妈妈 今天 安静 地 复习 课文 。

S 我们 每天 狠 健康 。
A 2 3|||S|||很|||REQUIRED|||-NONE-|||0

