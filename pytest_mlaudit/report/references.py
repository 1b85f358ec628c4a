"""The studies and methods the audits follow, as the report's methodology section cites them.

Plain text only (identifiers such as DOIs and arXiv numbers, no links): the report
fetches nothing and a reader can look each one up.
"""

from __future__ import annotations

# (topic, citation); the report lists them in this order
REFERENCES: tuple[tuple[str, str], ...] = (
    ("Studies reproduced",
     "“Robust and Fair AI: Addressing Adversarial Attacks, Data Bias and Privacy Challenges”: a CIFAR-10 CNN with "
     "FGSM adversarial training, XGBoost on credit-card fraud with SMOTE and random undersampling, "
     "diffprivlib logistic regression on Iris."),
    ("Studies reproduced",
     "The FraudNet study: a PyTorch MLP for credit-card fraud attacked with FGSM and hardened by adversarial "
     "training through IBM's Adversarial Robustness Toolbox."),
    ("Evasion attacks",
     "I. J. Goodfellow, J. Shlens, C. Szegedy. Explaining and Harnessing Adversarial Examples (FGSM). ICLR 2015. "
     "arXiv:1412.6572."),
    ("Evasion attacks",
     "A. Madry, A. Makelov, L. Schmidt, D. Tsipras, A. Vladu. Towards Deep Learning Models Resistant to "
     "Adversarial Attacks (PGD). ICLR 2018. arXiv:1706.06083."),
    ("Evaluation of robustness",
     "N. Carlini, A. Athalye, N. Papernot, W. Brendel, J. Rauber, D. Tsipras, I. Goodfellow, A. Madry, A. Kurakin. "
     "On Evaluating Adversarial Robustness. 2019. arXiv:1902.06705 (the sanity checks)."),
    ("Evaluation of robustness",
     "F. Croce, M. Hein. Reliable Evaluation of Adversarial Robustness with an Ensemble of Diverse Parameter-free "
     "Attacks (AutoAttack). ICML 2020. arXiv:2003.01690."),
    ("Evaluation of robustness",
     "M.-I. Nicolae et al. Adversarial Robustness Toolbox v1.0.0. 2018. arXiv:1807.01069."),
    ("Confidence intervals",
     "E. B. Wilson. Probable Inference, the Law of Succession, and Statistical Inference. Journal of the "
     "American Statistical Association 22 (1927) 209–212 (score interval for a proportion)."),
    ("Confidence intervals",
     "C. J. Clopper, E. S. Pearson. The Use of Confidence or Fiducial Limits Illustrated in the Case of the "
     "Binomial. Biometrika 26 (1934) 404–413 (exact interval for a proportion)."),
    ("Confidence intervals",
     "R. G. Newcombe. Improved Confidence Intervals for the Difference between Binomial Proportions Based on "
     "Paired Data. Statistics in Medicine 17 (1998) 2635–2650 (the accuracy drop)."),
    ("Class imbalance",
     "N. V. Chawla, K. W. Bowyer, L. O. Hall, W. P. Kegelmeyer. SMOTE: Synthetic Minority Over-sampling "
     "Technique. Journal of Artificial Intelligence Research 16 (2002) 321–357."),
    ("Class imbalance",
     "G. Lemaître, F. Nogueira, C. K. Aridas. Imbalanced-learn: A Python Toolbox to Tackle the Curse of "
     "Imbalanced Datasets in Machine Learning. JMLR 18 (2017) 1–5."),
    ("Fairness",
     "M. Hardt, E. Price, N. Srebro. Equality of Opportunity in Supervised Learning (equalized odds, equal "
     "opportunity). NeurIPS 2016. arXiv:1610.02413."),
    ("Fairness",
     "H. Weerts, M. Dudík, R. Edgar, A. Jalali, R. Lutz, M. Madaio. Fairlearn: Assessing and Improving Fairness "
     "of AI Systems. JMLR 24 (2023) 1–8."),
    ("Privacy",
     "N. Holohan, S. Braghin, P. Mac Aonghusa, K. Levacher. Diffprivlib: The IBM Differential Privacy Library. "
     "2019. arXiv:1907.02444."),
    ("Privacy",
     "M. Jagielski, J. Ullman, A. Oprea. Auditing Differentially Private Machine Learning: How Private is "
     "Private SGD? NeurIPS 2020. arXiv:2006.07709 (empirical epsilon lower bounds)."),
    ("Privacy",
     "R. Shokri, M. Stronati, C. Song, V. Shmatikov. Membership Inference Attacks against Machine Learning "
     "Models. IEEE S&P 2017. arXiv:1610.05820."),
    ("Poisoning, extraction and inference",
     "T. Gu, B. Dolan-Gavitt, S. Garg. BadNets: Identifying Vulnerabilities in the Machine Learning Model Supply "
     "Chain (backdoor poisoning). 2017. arXiv:1708.06733."),
    ("Poisoning, extraction and inference",
     "B. Chen et al. Detecting Backdoor Attacks on Deep Neural Networks by Activation Clustering. 2018. "
     "arXiv:1811.03728; B. Tran, J. Li, A. Madry. Spectral Signatures in Backdoor Attacks. NeurIPS 2018. "
     "arXiv:1811.00636."),
    ("Poisoning, extraction and inference",
     "J. R. Correia-Silva et al. Copycat CNN. IJCNN 2018. arXiv:1806.05476; T. Orekondy, B. Schiele, M. Fritz. "
     "Knockoff Nets: Stealing Functionality of Black-Box Models. CVPR 2019. arXiv:1812.02766."),
    ("Poisoning, extraction and inference",
     "M. Fredrikson et al. Privacy in Pharmacogenetics: An End-to-End Case Study of Personalized Warfarin Dosing "
     "(attribute inference). USENIX Security 2014."),
    ("Poisoning, extraction and inference",
     "S.-M. Moosavi-Dezfooli, A. Fawzi, O. Fawzi, P. Frossard. Universal Adversarial Perturbations. CVPR 2017. "
     "arXiv:1610.08401; A. Shafahi, M. Najibi, Z. Xu, J. Dickerson, L. S. Davis, T. Goldstein. Universal "
     "Adversarial Training (SGD-UAP). AAAI 2020. arXiv:1811.11304."),
    ("Requirements",
     "Regulation (EU) 2024/1689 laying down harmonised rules on artificial intelligence (Artificial Intelligence "
     "Act): Art. 10 data and data governance; Art. 15 accuracy, robustness and cybersecurity (15(5): data poisoning, "
     "model poisoning, adversarial examples, confidentiality attacks)."),
    ("Requirements",
     "NIST. Artificial Intelligence Risk Management Framework (AI RMF 1.0). NIST AI 100-1, 2023: MEASURE 2.5, "
     "2.7, 2.10, 2.11."),
)
